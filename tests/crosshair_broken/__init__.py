"""Deliberately wrong contracts and functions: CrossHair must flag every one."""
