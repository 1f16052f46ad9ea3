"""The staff console (docs/console.md): sign-in, roles, and the pages advisors and managers work in."""
