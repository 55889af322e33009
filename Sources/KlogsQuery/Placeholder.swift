// KlogsQuery: reads the dataset (filters, group-by, top-N, renderers).
