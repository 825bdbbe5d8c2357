"""colorcourse: automatic image colorization, taught by building it.

Each module names the lesson (notebook) that explains it. The two papers:
Cheng, Yang & Sheng, "Deep Colorization" (ICCV 2015) and
Iizuka, Simo-Serra & Ishikawa, "Let there be Color!" (SIGGRAPH 2016).
"""

__version__ = "0.1.0"
