// KlogsParquet: see the module's files.
