"""Published numbers the course's guided colorization is read against (lesson 12).

Zhang, Zhu, Isola, Geng, Lin, Yu & Efros, "Real-Time User-Guided Image Colorization with Learned
Deep Priors", SIGGRAPH 2017 (ACM Transactions on Graphics 36(4)), arXiv:1705.02999: mean PSNR of
their hint network against the number of simulated points, on 1000 ImageNet validation photos at
256 x 256 pixels, each point a 6 x 6 patch filled with its mean true color at a random place
(standard error about 0.14 dB).

The course's protocol differs (:mod:`colorcourse.hints`, :func:`~colorcourse.hints.evaluation_hints`):
9 x 9 patches, the photos at their full size, a few dozen out-of-domain ``shift_test`` photos, and
a small decoder on a frozen encoder instead of their whole network trained on 1.3 million photos.
So the curves are read side by side, never subtracted.
"""

from __future__ import annotations

ZHANG2017_CITATION = ("Zhang, Zhu, Isola, Geng, Lin, Yu & Efros, Real-Time User-Guided Image Colorization "
                      "with Learned Deep Priors, SIGGRAPH 2017 (ACM TOG 36(4)), arXiv:1705.02999")
ZHANG2017_PROTOCOL = ("1000 ImageNet validation photos at 256 x 256 px; points at random places, "
                      "each a 6 x 6 patch of its mean true color")
ZHANG2017_PATCH = 6  # px
ZHANG2017_STANDARD_ERROR_DB = 0.14
# number of points -> mean PSNR (dB) of their network
ZHANG2017_PSNR = {0: 24.43, 1: 25.37, 2: 26.20, 5: 27.39, 10: 28.42, 20: 29.34, 50: 30.42, 100: 31.13, 500: 32.14}
