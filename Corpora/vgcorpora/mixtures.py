def build(out_root, seed, scale, jobs, quiet=False):
    raise NotImplementedError("mixtures set: not built yet")
