"""deliver(): send one outbound row through its channel's sender (filled in by the channels issue)."""
