from lib.shapes import Shape as Shape
