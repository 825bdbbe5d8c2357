"""Cheng, Yang & Sheng, "Deep Colorization" (ICCV 2015 / TIP 2016), rebuilt step by step.

- :mod:`.features`: the per-pixel descriptor (7x7 patch + DAISY + semantic), notebooks/02.
- :mod:`.semantic`: the scene parser and the edge-preserving smoothing of its maps, notebooks/02.
- :mod:`.mlp`: the per-pixel network 114 -> 57 -> 57 -> 57 -> 2 and its training, notebooks/03.
- :mod:`.gist` and :mod:`.clustering`: adaptive image clustering (Algorithm 3), notebooks/04.
- :mod:`.bilateral`: joint bilateral refinement guided by the gray input, notebooks/05.
- :mod:`.pipeline`: the whole colorizer, gray -> rgb (:class:`~.pipeline.ChengColorizer`).
- :mod:`.train`: ``python -m colorcourse.cheng.train --out models`` makes the shipped models.
"""
