"""Backend-agnostic core: domain models, the backend interface, errors and configuration."""
