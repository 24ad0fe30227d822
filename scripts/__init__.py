"""Developer tools of the repository (not deployed)."""
