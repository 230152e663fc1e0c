"""The instructor's side: the cnn-course command line, parallel and distributed grading, exports, the class
report, the demo class, the roster, the score table and the hub's exchange."""
