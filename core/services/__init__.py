"""Domain operations. Each takes a Session first, never commits, never does network I/O."""
