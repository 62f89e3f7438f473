// Saves state for the post step, says it is ready, then runs until SIGINT
// (the first rung of the signal ladder a cancel step climbs).
const fs = require("fs");
const path = require("path");
process.on("SIGINT", () => {
  console.log("stopping on SIGINT");
  process.exit(0);
});
fs.appendFileSync(process.env.GITHUB_STATE, `pid=${process.pid}\n`);
console.log(process.env.INPUT_GREETING);
fs.writeFileSync(path.join(process.env.RUNNER_TEMP, "service-ready"), "");
setInterval(() => {}, 1000);
