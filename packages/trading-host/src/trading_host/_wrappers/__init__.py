"""What the host wraps around a mount where configured: deprecation, usage metrics, rollout, log redaction."""
