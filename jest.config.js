/** Jest runs TypeScript through ts-jest in transpile-only mode: `tsc --noEmit` type-checks the whole tree
 * separately in `npm test`, so checking types twice would only slow the suite down. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { isolatedModules: true }] },
  reporters: ["default", "<rootDir>/test/summary-reporter.js"],
};
