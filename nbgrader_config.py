# nbgrader configuration of the course repository: source/ -> release/.
# The cohort autograder writes its own config into each cohort folder (see autograder/README.md).
c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)
c.CourseDirectory.course_id = "llm-inference-economics"
