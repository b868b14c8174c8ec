// `npm run e2e`: the end-to-end suites only, one at a time (they start real servers on loopback).
const base = require("./jest.config.js");
module.exports = {
  ...base,
  testPathIgnorePatterns: ["/node_modules/"],
  testMatch: ["**/test/e2e/**/*.test.ts"],
  testTimeout: 300000,
};
