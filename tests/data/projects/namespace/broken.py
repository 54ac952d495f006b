import ns.nothere
import ns.inner.gone
