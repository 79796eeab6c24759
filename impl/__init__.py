"""kevy-verify's reference implementation of kevy 1.17's formats and protocols.

Everything here reaches the disk only through `impl.fs.FileSystem` and reads
time only through an injected `impl.clock.Clock`.
"""
