# Format strings checked against their arguments, as pyflakes does
# (F501-F509 for '...' % ..., F521-F525 for '...'.format(...)).
a = b = 1
'%s %s' % (a,)
'%(x)s %(y)s' % {'x': 1, 'z': 2}
'%s %(x)s' % (a, b)
'%y' % a
'hello' % (a,)
'%s' % {'a': 1}
'%*d' % {'a': 1}
'%' % a
'{} {}'.format(a)
'{0} {}'.format(a, b)
'{x}'.format(a, y=1)
'{'.format(a)
'{:{}}'.format(a, b)
'{:{:{}}}'.format(a, b, c)
'{a.b[0]} {0!r:>10}'.format(a, a=1)
'{}'.format(*a)
("%s" "%s") % (a, b, 3)
'%.*f' % (a, b)
'%s\n' % (a, b)
