"""End-to-end tests: the real client rendered under Xvfb."""
