"""The Dockerfile front end of csim's builder (filled in below)."""
