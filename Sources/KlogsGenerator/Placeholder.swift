// KlogsGenerator: see the module's files.
