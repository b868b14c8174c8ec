/** Jest runs TypeScript through ts-jest, transpile-only (tsconfig isolatedModules): `tsc --noEmit` type-checks the whole tree
 * separately in `npm test`, so checking types twice would only slow the suite down. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // The end-to-end suites need the toolchain built by e2e/toolchain/build.sh: `npm run e2e` runs them.
  testPathIgnorePatterns: ["/node_modules/", "/test/e2e/"],
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
  reporters: ["default", "<rootDir>/test/summary-reporter.js"],
  // Program runs under mocks and chroot runs take seconds on a loaded 2-core machine; these are limits, not targets.
  testTimeout: 60000,
};
