"""One module per page; each exposes a ``pn.viewable.Viewer`` subclass and a ``PAGE`` description."""
