"""One module per check type; each check is a long-lived object the monitor dispatches to."""
