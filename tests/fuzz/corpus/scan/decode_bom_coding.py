# coding: utf-8
import os
