"""The rules of the competition, free of Flask requests: views and commands call these."""
