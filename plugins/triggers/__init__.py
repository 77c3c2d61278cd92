"""Campaign triggers: actions, inaction and dates that put a customer into a segment once."""
