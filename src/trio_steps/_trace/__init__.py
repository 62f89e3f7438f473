"""Reading and writing what a job did: traces, timelines and statistics.

Reads the model's reports and events only; it never runs a job.
"""
