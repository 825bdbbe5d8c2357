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

# The Debian packages of the in-domain photos (train / val / test).
DEBIAN_PACKAGES = ("gcompris-qt-data", "scratch", "opencv-doc")


# =============================================================================================
# Out-of-domain ("shift") sources: photos from sources never used for training. They only ever
# go to the shift_val / shift_test splits, never to train / val / test. Every file below was
# looked at on a contact sheet; the left-out files are named with the reason.
# Each entry gives a scene label and a group: photos of the same scene (the same building, the
# same evening) share a group, and a group always goes to one split, so shift_val and
# shift_test never share a scene.
# =============================================================================================

# --- PyPI mvtb-data: images of the Machine Vision Toolbox for Python (Peter Corke) -----------
# Fetched with `pip download --no-deps mvtb-data==1.6.1` into the data cache; read from the wheel.
MVTB_DIST = "mvtb-data"
MVTB_VERSION = "1.6.1"
MVTB_DIR = "mvtbdata/images"
# The wheel has no license file; its metadata classifies it "License :: OSI Approved :: MIT License".
MVTB_LICENSE = "MIT"
MVTB_ATTRIBUTION = "Peter Corke, Machine Vision Toolbox for Python data (mvtb-data on PyPI)"
# path under MVTB_DIR -> (label, group)
MVTB = {
    # campus: one or two views per building of a university campus sequence (the others are
    # more views of the same buildings); a building is one group
    "campus/P1070491.png": ("outdoors", "mvtb-campus-brick"),
    "campus/P1070494.png": ("outdoors", "mvtb-campus-brick"),
    "campus/P1070496.png": ("outdoors", "mvtb-campus-whitebrick"),
    "campus/P1070500.png": ("outdoors", "mvtb-campus-whitebrick"),
    "campus/P1070503.png": ("outdoors", "mvtb-campus-whitebrick"),
    "campus/P1070498.png": ("outdoors", "mvtb-campus-umbrellas"),
    "campus/P1070504.png": ("outdoors", "mvtb-campus-umbrellas"),
    "campus/P1070507.png": ("outdoors", "mvtb-campus-veranda"),
    "campus/P1070510.png": ("outdoors", "mvtb-campus-veranda"),
    "campus/P1070512.png": ("outdoors", "mvtb-campus-palms"),
    "campus/P1070515.png": ("outdoors", "mvtb-campus-palms"),
    "campus/P1070514.png": ("outdoors", "mvtb-campus-sandstone"),
    "flowers1.png": ("nature", "mvtb-flowers1"), "flowers2.png": ("nature", "mvtb-flowers2"),
    "flowers3.png": ("nature", "mvtb-flowers3"), "flowers4.png": ("nature", "mvtb-flowers4"),
    "flowers5.png": ("nature", "mvtb-flowers5"), "flowers6.png": ("nature", "mvtb-flowers6"),
    "flowers7.png": ("nature", "mvtb-flowers7"), "flowers8.png": ("nature", "mvtb-flowers8"),
    "flowers9.png": ("nature", "mvtb-flowers9"),
    # two photos of the same tomato plant: one group
    "tomato_35.png": ("nature", "mvtb-tomato"), "tomato_54.png": ("nature", "mvtb-tomato"),
    "eiffel-1.png": ("monuments", "mvtb-eiffel"),
    "notre-dame.png": ("monuments", "mvtb-notre-dame"),
    "church.png": ("monuments", "mvtb-church"),
    "building2-3.png": ("outdoors", "mvtb-building2"),
    "butterfly.jpg": ("animals", "mvtb-butterfly"),
    "image3.jpg": ("outdoors", "mvtb-street"),
    "lab-scene.png": ("indoors", "mvtb-lab"),
    "mosaic/aerialphoto.png": ("outdoors", "mvtb-aerial"),  # the one color image of mosaic/
    "parks.png": ("nature", "mvtb-parks"),
    "road.png": ("outdoors", "mvtb-road"),
    "rocks2-l.png": ("nature", "mvtb-rocks"),
    "roof.png": ("outdoors", "mvtb-roof"),
    "walls-l.png": ("outdoors", "mvtb-walls"),
    # left out: lena.png; monalisa.png (a painting); 58060.png (a Berkeley Segmentation Dataset
    # photo, Corel stock: the wheel's MIT license cannot cover it); greenscreen.png (a studio
    # chroma-key test shot); the gray images (castle*, penguins, street, building2-1/2, seq/*,
    # mosaic/*); synthetic, drawn or calibration images (5points, adelson, Image18, apriltag12,
    # arucoboard, tags, fisheye_target, yellowtargets, multiblobs*, shark*, sharks, wally,
    # wheres-wally, scale-space, segmentation, eg-morph*, calibration/*); second views and
    # sequence frames (church.jpg = church.png, eiffel-2, rocks2-r, walls-r, tomato_14,
    # tomato_124, the other campus views).
}

# --- Debian lomiri-wallpapers-16.04 / -20.04: desktop wallpapers, per-file licenses (DEP-5) ---
LOMIRI_DIR = "usr/share/backgrounds"
# package -> (folder the copyright file names the files under, {file: label})
LOMIRI = {
    "lomiri-wallpapers-16.04": ("16.04", {
        "aitzgorri_by_Aitzol_Berasategi.jpg": "nature",
        "Bridge_by_Sander_Klootwijk.jpg": "outdoors",
        "Dragonfly_by_Bolly.jpg": "nature",
        "free_by_Peter_Nerlich.jpg": "objects",
        "friends_by_Aitzol_Berasategi.jpg": "animals",
        "greentock_by_Peter_Nerlich.jpg": "objects",
        "life_by_Aitzol_Berasategi.jpg": "nature",
        "picosdeeuropa_by_Aitzol_Berasategi.jpg": "nature",
        "Picture_0B_by_freespace.jpg": "objects",
        "Picture_1A_by_freespace.jpg": "objects",
        "seeding_by_Clements_Engelhardt.jpg": "nature",
        "sunset_by_Aitzol_Berasategi.jpg": "nature",
        "Wine_by_Jakkub_Mede.jpg": "objects",
        # left out (abstract art): analogpattern_by_Peter_Nerlich.jpg, umang_by_Abhishek_Mudgal.jpg
    }),
    "lomiri-wallpapers-20.04": ("20.04", {
        "Kleiber_by_Lukas_Baubkus.jpg": "animals",
        # left out (abstract art / graphics): Fossa_by_Jasper_Roks.jpg, Infinite-Sea_by_Aury88.jpg,
        # Painting-Colors_by__herobrine7gamer.jpg
    }),
}

# --- Debian mate-backgrounds: the nature folder (per-file licenses, DEP-5) ----------------------
MATE_DIR = "usr/share/backgrounds/mate"  # the copyright file names files relative to it
MATE = {f"nature/{name}": "nature" for name in (
    "Aqua.jpg", "Blinds.jpg", "Dune.jpg", "FreshFlower.jpg", "Garden.jpg", "GreenMeadow.jpg",
    "LadyBird.jpg", "RainDrops.jpg", "Storm.jpg", "TwoWings.jpg", "Wood.jpg", "YellowFlower.jpg")}
# left out: the abstract/ and desktop/ folders (abstract art, stripes, logos)

# --- Debian palapeli-data: the jigsaw puzzles' photos ------------------------------------------
# The package copyright has no per-file entry for them (its catch-all is GPL-2+); each puzzle's
# .desktop file beside the photo names the author, the Wikimedia Commons page and the license,
# and the builder records those.
PALAPELI_DIR = "usr/share/palapeli/collection"
PALAPELI = {
    "castle-maintenon.jpg": "monuments",
    "cincinnati-bridge.jpg": "outdoors",
    "citrus-fruits.jpg": "objects",
    "european-honey-bee.jpg": "animals",
    "panther-chameleon-female.jpg": "animals",
}

# --- Debian kphotoalbum: the demo photo album ---------------------------------------------------
# No machine-readable copyright: the package (demo database included) is GPL-2+, copyright
# Jesper K. Pedersen and the KPhotoAlbum authors. Some photos are stored sideways: the album's
# index.xml records the rotation and the builder applies it. CategoryImages/ holds 128 px crops
# of these photos (too small, and near-duplicates): left out.
KPHOTOALBUM_DIR = "usr/share/kphotoalbum/demo"
KPHOTOALBUM_LICENSE = "GPL-2+"
KPHOTOALBUM_ATTRIBUTION = ("Jesper K. Pedersen and the KPhotoAlbum authors, KPhotoAlbum demo album "
                           "(no per-file entry: the package is GPL-2+)")
# file -> (label, group): the photos of one place or one evening share a group
KPHOTOALBUM = {
    "anne_helene.jpg": ("people", "kpa-anne_helene"),
    "bar55.jpg": ("people", "kpa-bar55"), "bar55_2.jpg": ("people", "kpa-bar55"),
    "blackie.jpg": ("animals", "kpa-blackie"),  # a lizard in its terrarium
    "donna.jpg": ("animals", "kpa-donna"), "donna_2.jpg": ("animals", "kpa-donna"),
    "grand_canyon_1.jpg": ("nature", "kpa-grand_canyon"),
    "grand_canyon_2.jpg": ("nature", "kpa-grand_canyon"),
    "grand_canyon_3.jpg": ("nature", "kpa-grand_canyon"),
    "jesper.jpg": ("people", "kpa-jesper"), "jesper_2.jpg": ("people", "kpa-jesper"),
    "new_wave_1.jpg": ("people", "kpa-new_wave"), "new_wave_2.jpg": ("people", "kpa-new_wave"),
    "pool.jpg": ("sports", "kpa-pool"), "pool_2.jpg": ("sports", "kpa-pool"),
    "qt-logo.jpg": ("people", "kpa-qt-logo"),
    "skagen.jpg": ("nature", "kpa-skagen"), "skagen_2.jpg": ("nature", "kpa-skagen"),
    "cold_water.jpg": ("people", "kpa-skagen"),  # the same beach, the same day
    "snow.jpg": ("nature", "kpa-snow"),
    "spiff.jpg": ("animals", "kpa-spiff"), "spiff_2.jpg": ("animals", "kpa-spiff"),
    "sunset.jpg": ("nature", "kpa-sunset"),
    "wayne.jpg": ("people", "kpa-wayne"),
}

SHIFT_DEBIAN_PACKAGES = ("lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04", "mate-backgrounds",
                         "palapeli-data", "kphotoalbum")
# A package's photos may go to either shift split, but both halves should see every source:
# the split is stratified by source; the two lomiri-wallpapers packages are one source.
SHIFT_SOURCE = {"lomiri-wallpapers-16.04": "lomiri-wallpapers",
                "lomiri-wallpapers-20.04": "lomiri-wallpapers"}

# --- Debian tuxpaint-stamps-default: photographic object cut-outs with an alpha mask ----------
# Pasted onto in-domain photos as composites (pack_composites.py): objects_train on train photos,
# objects_test (held-out categories) on test photos. Checked by eye: the folders below hold
# photographs cut out along the object; "cartoon", "toys" and "plastic" subfolders are drawings or
# models, and symbols/, town/, seasonal/, space/, military/, naturalforces/ and people/ are
# mostly drawings, renders or signs, so they are left out. A measurable rule then drops what is
# too small or drawn with few colors (pack_composites.cutout_reject_reason).
TUXPAINT_PACKAGE = "tuxpaint-stamps-default"
TUXPAINT_DIR = "usr/share/tuxpaint/stamps"
TUXPAINT_COPYRIGHT = "usr/share/doc/tuxpaint-stamps-default/copyright"
# A stamp's category is its folder under TUXPAINT_DIR; the first matching prefix names its label.
TUXPAINT_LABELS = {
    "animals/fish": "fish",
    "animals": "animals",
    "food": "objects",
    "plants": "nature",
    "household/tools": "tools",
    "household": "objects",
    "hobbies": "objects",
    "vehicles": "objects",
    "clothes": "objects",
    "medical": "objects",
    "sports": "sports",
}
TUXPAINT_SKIP_FOLDERS = ("cartoon", "toys", "plastic")
TUXPAINT_EXCLUDE = {"clothes/button.png"}  # a drawing with enough colors to pass the rule
# Whole categories held out of objects_train for the composite object test (objects_test): one
# or more per label that has several categories, so the test asks for object colors never seen.
TUXPAINT_HELD_OUT = ("food/vegetables", "animals/mammals/bovines", "animals/insects", "plants/trees",
                     "hobbies/music")
TUXPAINT_ATTRIBUTION = "Tux Paint stamps, 2002-2022 Bill Kendrick and the Tux Paint contributors"
