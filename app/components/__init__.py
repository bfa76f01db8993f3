"""Widgets shared by pages: error banner, cube source chooser, image and spectrum views."""
