"""Coverage-guided fuzzing of kevy-verify's parsers (issue 6); see fuzz/README.md."""
