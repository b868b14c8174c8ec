// `npm run e2e`: the end-to-end suites only, one at a time (they start real servers on loopback).
const base = require("./jest.config.js");
module.exports = {
  ...base,
  testPathIgnorePatterns: ["/node_modules/"],
  testMatch: ["**/test/e2e/**/*.test.ts"],
  testTimeout: 300000,
  // The suites start servers and hosts of their own and stop them in afterAll; should one be left (a suite stopped by
  // a failure halfway), jest still exits when the last suite ends instead of holding CI until its time limit.
  forceExit: true,
};
