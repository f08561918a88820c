"""A run's statuses, shared by the trainer, the store and the job registry."""

# While a run goes; "pending" is recorded before it is queued.
ACTIVE_STATUSES = ("pending", "queued", "running", "paused")
# How a run ends by itself or on request; "cancelled" is a run stopped while it waited in the
# queue: it never trained and has no weights.
CANCELLED = "cancelled"
FINAL_STATUSES = ("completed", "stopped", "diverged", "failed", CANCELLED)
# Set from outside when the process training a run died, or the server stopped under it.
INTERRUPTED = "interrupted"
ENDED_STATUSES = (*FINAL_STATUSES, INTERRUPTED)
