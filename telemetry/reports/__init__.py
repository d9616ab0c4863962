"""Reports: choose modules and items, build each item from the query layer, render PDF or HTML."""
