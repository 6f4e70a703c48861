"""A case's records: assessments of the whole family, meetings, contact logs."""
