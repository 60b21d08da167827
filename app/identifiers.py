"""The form of every record id: lowercase words and digits joined by hyphens (`pavel-kulazhanka`)."""

ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
