// `npm run e2e`: the end-to-end suites only, two files at a time (package.json: --maxWorkers=2). They start real servers
// and test hosts on loopback, each file on addresses of its own (ssh-up 127.0.1.31-41, restore .51-53, apiserver .1-.21,
// pulumi-engine .2, k3s-apiserver .61-62); the controller managers and schedulers that bind 127.0.0.1 share their
// ports (--permit-port-sharing). Much of the SSH run is waiting on hosts, which another file's run fills: the longest
// file (ssh-up) runs beside the others one after another.
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
