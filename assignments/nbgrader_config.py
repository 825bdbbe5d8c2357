"""nbgrader configuration for a course folder holding these assignments (see README.md).

Copy the whole ``assignments/`` folder into a PRIVATE place first and run nbgrader there:
nbgrader writes the gradebook (students' names and grades), ``release/``, ``submitted/``,
``autograded/`` and ``feedback/`` next to this file.
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "colorcourse"
# the course folder is the folder of this file, wherever it was copied to
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# every assignment runs in seconds; a stuck student notebook must not stall grading
c.Execute.timeout = 300
