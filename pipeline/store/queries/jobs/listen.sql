-- jobs/listen: Subscribes this session to job wake-ups (sent on enqueue and retry).
listen reelforge_jobs
