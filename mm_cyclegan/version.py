"""Version of the mm_cyclegan package."""
__version__ = '0.1.0'
