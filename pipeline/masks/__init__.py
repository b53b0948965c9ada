"""Stage `masks`: the 10 body-part masks and the PG2 pose mask of every image -> masks.h5."""
