"""Hand-kept lists for the offline course pack: which files of which package are photographs.

Read by data_scripts/build_course_pack.py. The lists say where the photos are and which scene
label each gets; a measurable rule in the builder (size, saturation, flat-color fraction) then
checks every candidate again, so a drawing that slips through a list is still caught.
GCompris's `lang`, `paintings`, `details`, `babyshapes`, `chronos` and `louis-braille` resources
were checked by eye and are drawings or artworks, so they are left out.
"""

# The course pack's scene labels (small and meaningful; every label has several photos).
LABELS = ("animals", "fish", "monuments", "energy", "tools", "objects", "people",
          "indoors", "nature", "outdoors", "sports")

# --- Debian gcompris-qt-data: photos inside Qt .rcc resource files -----------------------------
# rcc file (under /usr/share/gcompris-qt/rcc/) -> {folder inside the resource: label}.
# A folder matches every image below it.
GCOMPRIS_RCC_DIR = "usr/share/gcompris-qt/rcc"
GCOMPRIS = {
    "categorization": {
        "gcompris/src/activities/categorization/resource/images/fishes": "fish",
        "gcompris/src/activities/categorization/resource/images/monuments": "monuments",
        "gcompris/src/activities/categorization/resource/images/renewable": "energy",
        "gcompris/src/activities/categorization/resource/images/tools": "tools",
        "gcompris/src/activities/categorization/resource/images/others": "objects",
    },
    "clickgame": {"gcompris/src/activities/clickgame/resource/sea": "fish"},  # sea1..6 backdrops
    "erase": {"gcompris/src/activities/erase/resource": "animals"},
    "explore_farm_animals": {"gcompris/src/activities/explore_farm_animals/resource/animals": "animals"},
    "explore_world_animals": {"gcompris/src/activities/explore_world_animals/resource/animals": "animals"},
    "explore_monuments": {"gcompris/src/activities/explore_monuments/resource": "monuments"},
    "explore_world_music": {"gcompris/src/activities/explore_world_music/resource/music": "people"},
}
# Files inside the folders above that are not photographs (checked by eye on a contact sheet):
# the fish illustrations by Duane Raver (U.S. Fish and Wildlife Service drawings).
GCOMPRIS_EXCLUDE = {
    "gcompris/src/activities/categorization/resource/images/fishes/fish2.webp",
    "gcompris/src/activities/categorization/resource/images/fishes/fish5.webp",
    "gcompris/src/activities/categorization/resource/images/fishes/fish23.webp",
}
GCOMPRIS_COPYRIGHT = "usr/share/doc/gcompris-qt-data/copyright"
# File names misspelt in that copyright file: {path in the package: path as the copyright spells it}.
GCOMPRIS_COPYRIGHT_ALIASES = {
    "src/activities/categorization/resource/images/monuments/brandenburgGate.webp":
        "src/activities/categorization/resource/images/monuments/beandenburgGate.webp",
    "src/activities/categorization/resource/images/tools/cuttingTool.webp":
        "src/activities/categorization/resource/images/tools/cutingTool.webp",
}
# Photos with no per-file entry fall under the file's catch-all stanza ("Files: *", GPL-3+);
# the manifest's attribution column says so for each of them.

# --- Debian scratch: background photos, 480 x 360, in scene folders ---------------------------
# The .gif backgrounds are drawings; the .jpg ones are photographs (except those listed below).
SCRATCH_DIR = "usr/share/scratch/Media/Backgrounds"
SCRATCH_FOLDERS = {"Indoors": "indoors", "Nature": "nature", "Outdoors": "outdoors", "Sports": "sports"}
SCRATCH_EXCLUDE = {
    # drawings saved as JPEG (seen on a contact sheet of every candidate)
    "Indoors/room1.jpg", "Indoors/room2.jpg", "Indoors/room3.jpg", "Indoors/party-room.jpg",
    "Indoors/spotlight-stage.jpg", "Nature/woods-and-bench.jpg", "Outdoors/school2.jpg",
    # photos of murals and graffiti: the colors are an artist's, not the scene's
    "Outdoors/all-sports-mural.jpg", "Outdoors/berkeley-mural.jpg", "Outdoors/mural-faro.jpg",
    "Outdoors/graffiti.jpg",
}
SCRATCH_LICENSE = "CC-BY-SA-3.0"
SCRATCH_ATTRIBUTION = "Copyright (c) 2011 Massachusetts Institute of Technology (Scratch 1.4 media)"

# --- Debian opencv-doc: classic test photos in examples/data ----------------------------------
OPENCV_DIR = "usr/share/doc/opencv-doc/examples/data"
OPENCV = {
    "fruits.jpg": "objects", "apple.jpg": "objects", "orange.jpg": "objects",
    "stuff.jpg": "objects", "board.jpg": "objects",
    "baboon.jpg": "animals", "squirrel_cls.jpg": "animals", "butterfly.jpg": "animals",
    "building.jpg": "outdoors", "home.jpg": "outdoors", "aero1.jpg": "outdoors",
    "leuvenA.jpg": "outdoors", "graf1.png": "outdoors", "ela_original.jpg": "outdoors",
    "messi5.jpg": "sports", "basketball1.png": "sports",
    "rubberwhale1.png": "objects", "aloeL.jpg": "nature",
    # left out: HappyFish.jpg, smarties.png (drawn / rendered), starry_night.jpg (a painting),
    # Blender_Suzanne*.jpg (renders), the gray calibration and text images, the second view of
    # each stereo or before/after pair (aloeR, rubberwhale2, leuvenB, graf3, ela_modified).
}
OPENCV_LICENSE = "Apache-2.0 AND BSD-3-Clause"
OPENCV_ATTRIBUTION = "OpenCV sample data (opencv-doc examples/data)"

# --- PyPI sample photos (installed with the course's own dependencies) ------------------------
# (id, python package, path inside the package, label, license, attribution)
PYPI = [
    ("astronaut", "scikit-image", "skimage/data/astronaut.png", "people", "public-domain",
     "NASA Great Images database (Eileen Collins)"),
    ("chelsea", "scikit-image", "skimage/data/chelsea.png", "animals", "CC0-1.0", "Stefan van der Walt"),
    ("coffee", "scikit-image", "skimage/data/coffee.png", "objects", "CC0-1.0", "Rachel Michetti"),
    ("rocket", "scikit-image", "skimage/data/rocket.jpg", "outdoors", "public-domain",
     "SpaceX, launch of DSCOVR on Falcon 9"),
    # Only the left view of the stereo pair: the right one is a near-duplicate.
    ("motorcycle", "scikit-image", "skimage/data/motorcycle_left.png", "objects", "BSD-3-Clause",
     "Middlebury 2014 stereo benchmark, via scikit-image"),
    ("china", "scikit-learn", "sklearn/datasets/images/china.jpg", "monuments", "CC-BY-2.0",
     "danielbuechele (flickr), via scikit-learn"),
    ("flower", "scikit-learn", "sklearn/datasets/images/flower.jpg", "nature", "CC-BY-2.0",
     "vultilion (flickr), via scikit-learn"),
    ("grace_hopper", "matplotlib", "matplotlib/mpl-data/sample_data/grace_hopper.jpg", "people",
     "public-domain", "U.S. Navy photograph, via matplotlib"),
]

# Optional extra Debian packages (not needed for the 250-photo target, kept for reference).
DEBIAN_PACKAGES = ("gcompris-qt-data", "scratch", "opencv-doc")
