# nbgrader configuration of the course repository: source/ -> release/.
# The cohort autograder writes its own config into each cohort folder (see autograder/README.md).
c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)
c.CourseDirectory.course_id = "llm-inference-economics"
# Each answer cell starts from `name = ...` above its solution block, so the release stub must not raise:
# Run All then reaches every check cell (which says "no answer yet") and the flashcards. An unanswered
# exercise still scores 0, because its check raises under nbgrader (NBGRADER_EXECUTION is set).
c.ClearSolutions.code_stub = {"python": "# YOUR ANSWER: replace the ... above with your calculation"}
