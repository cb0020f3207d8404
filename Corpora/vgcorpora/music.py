def build(out_root, seed, scale, jobs, quiet=False):
    raise NotImplementedError("music set: not built yet")
