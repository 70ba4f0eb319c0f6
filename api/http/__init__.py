"""The HTTP room: routes, request bodies, error rendering, and the consumer and parcel pages.

It turns requests into calls on the write side (api.write) and the read side (api.read), reached
through the services container (api.services); nothing below it imports from here.
"""
