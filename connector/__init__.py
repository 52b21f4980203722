"""The pure connection domain: model, wire format, target catalog, naming, manifests, plan, errors. No I/O."""
