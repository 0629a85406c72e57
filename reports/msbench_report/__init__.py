"""Charts and an index.html from msbench results files."""
