"""The executable specification: what kevy's commands mean, what a crash may
leave on disk, and what a recovered store must satisfy.

Written from SPEC.md and first principles, independently of `impl/`; the only
thing imported from `impl/` is the `FileSystem` protocol that `crashfs`
implements.
"""
