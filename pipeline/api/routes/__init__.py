"""One router per resource: health, projects, credits."""
