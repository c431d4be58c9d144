"""Analysis with pandas: the only package that imports it, and only the commands that need it import this."""
