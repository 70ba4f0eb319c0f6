"""Pages for people: the consumer page's words, GS1 Digital Link paths, and their templates."""
