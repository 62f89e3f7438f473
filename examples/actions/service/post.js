// Post steps run at the job's end, with what main saved as STATE_*.
console.log(`post: the service (pid ${process.env.STATE_pid}) has stopped`);
